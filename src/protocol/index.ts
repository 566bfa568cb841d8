export * from './errors.js';
export * from './events.js';
export * from './programs.js';
export * from './schemas.js';
export * from './text.js';
