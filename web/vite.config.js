// The bundle goes to build/web at the top of the tree, where the server
// looks for its web root. Relative asset paths: the server may be mounted
// anywhere, and nothing is loaded from another origin.
import { defineConfig } from 'vite';

export default defineConfig({
	base: './',
	build: {
		outDir: '../build/web',
		emptyOutDir: true,
		assetsDir: 'assets',
		sourcemap: false,
		chunkSizeWarningLimit: 1200,
	},
	server: { proxy: { '/api': 'http://127.0.0.1:7070' } },
});
