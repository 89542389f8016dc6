import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import preact from "@preact/preset-vite";
import { defineConfig, type Plugin } from "vite";

// GraphiQL's files, exactly as Strawberry's page loads them from a CDN (the same bytes,
// so the same integrity hashes), served by the server from dist/graphiql/.
const GRAPHIQL_FILES: Record<string, string> = {
  "react.production.min.js": "react/umd/react.production.min.js",
  "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
  "js.cookie.min.js": "js-cookie/dist/js.cookie.min.js",
  "graphiql.min.css": "graphiql/graphiql.min.css",
  "graphiql.min.js": "graphiql/graphiql.min.js",
  "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
  "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
};

function graphiqlFiles(): Plugin {
  return {
    name: "roster-graphiql-files",
    apply: "build",
    writeBundle(options) {
      const out = resolve(options.dir ?? "dist", "graphiql");
      mkdirSync(out, { recursive: true });
      for (const [name, source] of Object.entries(GRAPHIQL_FILES)) {
        const from = resolve(import.meta.dirname, "node_modules", source);
        mkdirSync(dirname(resolve(out, name)), { recursive: true });
        copyFileSync(from, resolve(out, name));
      }
    },
  };
}

export default defineConfig({
  plugins: [preact(), graphiqlFiles()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Everything is served by the server from its own origin (script-src 'self').
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      // The console, and the invitation page (/accept, served by web/portal.py) whose
      // script keeps the fixed name /accept.js that the portal has always served.
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        accept: resolve(import.meta.dirname, "accept.html"),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === "accept" ? "accept.js" : "assets/[name]-[hash].js"),
      },
    },
  },
});
