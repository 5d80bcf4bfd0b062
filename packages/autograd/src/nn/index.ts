export * from './module.js';
export * from './init.js';
export * from './containers.js';
export * from './functional.js';
export * from './layers.js';
export * from './attention.js';
export * from './spectral.js';
