// Validates a SARIF file against the SARIF 2.1.0 schema (rtm.5, as GitHub
// code scanning uses it). Exit 0 when valid; else the errors on stderr.
const Ajv = require("ajv");
const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
const doc = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const ajv = new Ajv({ allErrors: true, schemaId: "auto" });
// The SARIF schema is draft-04.
ajv.addMetaSchema(require("ajv/lib/refs/json-schema-draft-04.json"));
const validate = ajv.compile(schema);
if (validate(doc)) {
  process.exit(0);
}
console.error(JSON.stringify(validate.errors, null, 2));
process.exit(1);
