// Parse each AsyncAPI document given on the command line with the official parser
// (@asyncapi/parser, pinned in package.json beside this file) and fail on any diagnostic of
// severity error. Warnings are printed and tolerated. Run by scripts/asyncapi.sh (`make lint`).
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const toolsDir = process.env.ASYNCAPI_TOOLS;
if (!toolsDir) {
  console.error("ASYNCAPI_TOOLS must name the directory where package-lock.json was installed");
  process.exit(2);
}
const { Parser } = createRequire(path.join(path.resolve(toolsDir), "package.json"))("@asyncapi/parser");
// @stoplight/types DiagnosticSeverity: 0 error, 1 warning, 2 information, 3 hint.
const NAMES = ["error", "warning", "information", "hint"];

// A parser that reports nothing on a broken document (an API change, a broken install) would
// pass every document: it must first find the errors of a known-bad one.
async function selfTest(parser) {
  const broken = {
    asyncapi: "3.0.0",
    info: { title: "broken" },
    operations: { o: { action: "consume", channel: { $ref: "#/channels/none" } } },
  };
  const { diagnostics } = await parser.parse(JSON.stringify(broken));
  if (!diagnostics.some((d) => d.severity === 0)) {
    console.error("the AsyncAPI parser found no error in a broken document: not trusting it");
    process.exit(2);
  }
}

async function main(files) {
  const parser = new Parser();
  await selfTest(parser);
  let failed = 0;
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), {
      source: path.resolve(file),
    });
    const errors = diagnostics.filter((d) => d.severity === 0);
    for (const d of diagnostics.filter((d) => d.severity <= 1)) {
      const where = (d.path || []).join("/");
      console.error(`${file}: ${NAMES[d.severity]} ${d.code}: ${d.message} at ${where}`);
    }
    if (document === undefined || errors.length > 0) {
      failed += 1;
      console.error(`${file}: INVALID (${errors.length} errors)`);
    } else {
      const channels = document.channels().length;
      const operations = document.operations().length;
      const messages = document.components().messages().length;
      console.log(`${file}: valid AsyncAPI ${document.version()} (${channels} channels, ${operations} operations, ${messages} messages)`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(2);
});
