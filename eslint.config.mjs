// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const crossLibRelative = {
  group: ['**/libs/*/src', '**/libs/*/src/**', '../../libs/**', '../../../libs/**'],
  message: 'Import other libs through their @tributary/<lib> alias.',
};

// Pure domain libraries stay free of framework, storage and network code so they can be tested and reused anywhere.
const pureDomainBans = {
  patterns: [
    crossLibRelative,
    { group: ['@nestjs/*'], message: 'Pure domain libs must not depend on NestJS.' },
    { group: ['@tributary/db', '@tributary/queue', '@tributary/connectors'], message: 'Pure domain libs do no I/O.' },
  ],
  paths: ['http', 'https', 'node:http', 'node:https', 'pg', 'kysely', 'bullmq', 'ioredis'].map((name) => ({
    name,
    message: 'Pure domain libs do no I/O.',
  })),
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.data/**',
      'test-results/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-restricted-imports': ['error', { patterns: [crossLibRelative] }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: 'Throw a DomainError subclass (retryable or permanent), never a bare Error.',
        },
      ],
    },
  },
  {
    files: ['libs/activity/**/*.ts', 'libs/formats/**/*.ts', 'libs/sync/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', pureDomainBans] },
  },
  {
    // The simulators are written from the API reference; importing connector code would let a contract test pass vacuously.
    files: ['apps/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            crossLibRelative,
            {
              group: ['@tributary/connectors', '@tributary/connectors/*', '**/connectors/**'],
              message: 'The sandbox must not import connector code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-syntax': 'off',
    },
  },
);
