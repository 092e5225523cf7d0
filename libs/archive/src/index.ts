export * from './archive.error';
export * from './archive.types';
export * from './activity-files.service';
export * from './connector-context.util';
export * from './export.util';
export * from './file-name.util';
export * from './original-file.util';
