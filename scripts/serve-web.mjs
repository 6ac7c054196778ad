// Serves built web examples on 127.0.0.1 and prints the URL of each, pointed at a RivetKit
// endpoint. Used by scripts/demo.sh.
//   node scripts/serve-web.mjs ENDPOINT DIR...     serve until Ctrl-C
//   RIVET_DEMO_CHECK=1 node scripts/serve-web.mjs …  serve, fetch every page once, exit
import { basename } from "node:path";
import { serveStatic } from "../tests/e2e/lib.mjs";

const [endpoint, ...dirs] = process.argv.slice(2);
if (!endpoint || dirs.length === 0) {
  console.error("usage: node scripts/serve-web.mjs ENDPOINT DIR...");
  process.exit(2);
}
const sites = [];
for (const dir of dirs) {
  const site = await serveStatic(dir);
  const url = `${site.url}/?endpoint=${encodeURIComponent(endpoint)}`;
  sites.push({ name: basename(dir), url, site });
  console.log(`  ${basename(dir).padEnd(16)} ${url}`);
}
if (process.env.RIVET_DEMO_CHECK === "1") {
  for (const { name, url } of sites) {
    const res = await fetch(url);
    const body = await res.text();
    if (res.status !== 200 || !body.includes(".js")) {
      console.error(`${name}: ${res.status}, page does not load its script`);
      process.exit(1);
    }
  }
  await Promise.all(sites.map(({ site }) => site.close()));
  console.log("all pages served");
  process.exit(0);
}
console.log("Open the URLs above (several tabs to see live updates); Ctrl-C stops everything.");
const stop = async () => {
  await Promise.all(sites.map(({ site }) => site.close()));
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
