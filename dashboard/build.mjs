// Builds the dashboard into dist/: one bundled ES module (esbuild: our modules + Chart.js) and
// one stylesheet (the Tailwind CLI), both named by a hash of their content so S3 and browsers
// may cache them forever; index.html names them. config.js is copied as is (never bundled):
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
    target: ["es2020"],
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    outdir: assets,
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint);
  return relative(out, join(here, entry[0])).split("\\").join("/");
}

async function main() {
  const started = Date.now();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  const [js, css] = [await buildJs(), buildCss()];
  const html = readFileSync(join(src, "index.html"), "utf8")
    .replace("%APP_JS%", js)
    .replace("%APP_CSS%", css);
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
