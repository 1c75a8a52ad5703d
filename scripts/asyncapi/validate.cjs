// Parse each AsyncAPI document given on the command line with the official parser
// (@asyncapi/parser, pinned in package.json beside this file) and fail on any diagnostic of
// severity error; warnings are printed and tolerated. The parser does not hold message examples
// to their schemas, so each example's payload and headers are then validated with ajv against
// the message's own schemas, as the document states them. Run by scripts/asyncapi.sh (make lint).
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const toolsDir = process.env.ASYNCAPI_TOOLS;
if (!toolsDir) {
  console.error("ASYNCAPI_TOOLS must name the directory where package-lock.json was installed");
  process.exit(2);
}
const fromTools = createRequire(path.join(path.resolve(toolsDir), "package.json"));
const { Parser } = fromTools("@asyncapi/parser");
const Ajv = fromTools("ajv").default;
const addFormats = fromTools("ajv-formats");
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

// Problems of the examples of every message in components: each example's payload and headers
// must be valid under the message's payload and headers schemas.
function exampleProblems(raw) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // pydantic marks decimal strings format "decimal" (their pattern says what is allowed).
  ajv.addFormat("decimal", true);
  const { schemas = {}, messages = {} } = raw.components || {};
  // Only components: the document's own top-level "id" would read as a draft-04 schema id.
  ajv.addSchema({ components: { schemas, messages } }, "doc");
  const problems = [];
  for (const [id, message] of Object.entries(messages)) {
    for (const [index, example] of (message.examples || []).entries()) {
      for (const part of ["payload", "headers"]) {
        if (message[part] === undefined || example[part] === undefined) continue;
        const validate = ajv.compile({ $ref: `doc#/components/messages/${id}/${part}` });
        if (!validate(example[part])) {
          const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
          problems.push(`message ${id} example ${index} ${part}: ${why.join("; ")}`);
        }
      }
    }
  }
  return problems;
}

async function main(files) {
  const parser = new Parser();
  await selfTest(parser);
  let failed = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const { document, diagnostics } = await parser.parse(text, { source: path.resolve(file) });
    const errors = diagnostics.filter((d) => d.severity === 0);
    if (document !== undefined) {
      for (const problem of exampleProblems(JSON.parse(text))) {
        errors.push(problem);
        console.error(`${file}: error ${problem}`);
      }
    }
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
