// The dashboard's build: Preact pages (JSX through Vite's own transform, no Babel) into dist/web, which
// the server serves at / (src/server/web.ts). Hashed file names under assets/ let the server cache them
// for a year. Run by `npm run build` after the server's build.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  publicDir: false,
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    assetsInlineLimit: 0,
  },
});
