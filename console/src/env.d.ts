/** Stylesheets are bundled by esbuild (scripts/build-console.mjs); importing one yields nothing. */
declare module '*.css';
