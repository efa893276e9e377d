// Builds the dashboard into dist/: the app as ES modules (esbuild: our modules in one entry,
// app-<hash>.js; Chart.js and our chart code in a chunk of their own, charts-<hash>.js, that
// only a page drawing a chart imports) and one stylesheet (the Tailwind CLI), all named by a
// hash of their content so S3 and browsers may cache them forever; index.html names the entry. config.js is copied as is (never bundled):
// `make dev` serves its own and the deploy command writes the deployed API URL into it.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const out = resolve(here, process.env.DASHBOARD_DIST || "dist");
const assets = join(out, "assets");

function hashOf(data) {
  return createHash("sha256").update(data).digest("hex").slice(0, 12);
}

function buildCss() {
  const tmp = join(out, ".app.css");
  const cli = join(here, "node_modules", ".bin", "tailwindcss");
  const run = spawnSync(cli, ["-i", join(src, "styles.css"), "-o", tmp, "--minify"], {
    cwd: here,
    encoding: "utf8",
  });
  if (run.status !== 0) {
    process.stderr.write(run.stderr || "");
    throw new Error(`tailwindcss failed with exit code ${run.status}`);
  }
  const css = readFileSync(tmp);
  const name = `app-${hashOf(css)}.css`;
  renameSync(tmp, join(assets, name));
  return `assets/${name}`;
}

async function buildJs() {
  const result = await esbuild.build({
    entryPoints: { app: join(src, "js", "main.js") },
    bundle: true,
    format: "esm",
    splitting: true, // dynamic import() becomes a chunk loaded on demand
    target: ["es2020"],
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    outdir: assets,
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  const outputs = result.metafile.outputs;
  const entry = Object.entries(outputs).find(([, o]) => o.entryPoint?.endsWith("main.js"));
  const url = (file) => relative(out, join(here, file)).split("\\").join("/");
  // Chunks the entry imports statically (shared helpers) are preloaded from index.html, so the
  // browser fetches them with the entry rather than after it.
  const preloads = entry[1].imports.filter((i) => i.kind === "import-statement").map((i) => url(i.path));
  return { js: url(entry[0]), preloads };
}

async function main() {
  const started = Date.now();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  const [{ js, preloads }, css] = [await buildJs(), buildCss()];
  const links = preloads.map((p) => `<link rel="modulepreload" href="${p}">`).join("\n    ");
  const html = readFileSync(join(src, "index.html"), "utf8")
    .replace("%APP_JS%", js)
    .replace("%APP_CSS%", css)
    .replace("<!-- %APP_PRELOADS% -->", links);
  if (html.includes("%APP_")) throw new Error("index.html still has a placeholder");
  writeFileSync(join(out, "index.html"), html);
  copyFileSync(join(src, "config.js"), join(out, "config.js"));
  copyFileSync(join(src, "favicon.svg"), join(out, "favicon.svg"));
  console.log(`dashboard built into ${relative(process.cwd(), out) || "."}: ${js}, ${css} ` +
    `(${Date.now() - started} ms)`);
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
