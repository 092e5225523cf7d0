export * from './keyring.util';
