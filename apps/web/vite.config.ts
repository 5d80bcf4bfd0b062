import { defineConfig } from 'vite';

/**
 * COOP/COEP make the page cross-origin isolated, which the fast backend needs to share its
 * WebAssembly.Memory with Web Workers (more than one thread). GANPO_WEB_ISOLATED=0 serves without them
 * (one thread), e.g. to compare.
 */
const isolated = process.env.GANPO_WEB_ISOLATED !== '0';
const headers = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};

export default defineConfig({
  base: './',
  resolve: { conditions: ['browser', 'module', 'import', 'default'] },
  worker: { format: 'es' },
  server: { headers },
  preview: { headers },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
