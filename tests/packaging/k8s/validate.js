// validate.js - validate Kubernetes objects against the API's schemas, with
// kubernetes-models (validators generated from the Kubernetes OpenAPI spec:
// types, required fields, enums, formats; unknown fields are not reported).
//
//   node validate.js OBJECTS.json      (a JSON array of {label, object})
//
// Prints one line per object; exits 0 when all are valid, 1 otherwise, and
// 2 for a kind it has no schema for (so nothing is skipped silently).
'use strict';
const fs = require('fs');

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  try {
    return require(path)[kind];
  } catch (e) {
    return null;
  }
}

const items = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let bad = 0, unknown = 0;
for (const { label, object } of items) {
  const Model = modelFor(object.apiVersion, object.kind);
  const what = `${label}: ${object.kind} ${object.metadata && object.metadata.name}`;
  if (!Model) {
    console.log(`FAIL ${what}: no schema for ${object.apiVersion} ${object.kind}`);
    unknown++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok   ${what}: valid`);
  } catch (e) {
    console.log(`${label.startsWith('control') ? 'ok  ' : 'FAIL'} ${what}: ${e.message}`);
    if (!label.startsWith('control')) bad++;
    else object.__rejected = true;
  }
  if (label.startsWith('control') && !object.__rejected) {
    console.log(`FAIL ${what}: the broken object was accepted`);
    bad++;
  }
}
process.exit(unknown ? 2 : bad ? 1 : 0);
