// SPDX-License-Identifier: BSD-3-Clause
// validate.js - validate Kubernetes objects against the API's schemas, with
// kubernetes-models (validators generated from the Kubernetes OpenAPI spec:
// types, required fields, enums, formats). Its validators accept unknown
// fields, which the API server drops (a misspelt "readinesProbe" would just
// vanish), so field names are also checked strictly against the package's
// type declarations (.d.ts), recursively.
//
//   node validate.js OBJECTS.json      (a JSON array of {label, object})
//
// Prints one line per object; exits 0 when all are valid, 1 otherwise, and
// 2 for a kind it has no schema for (so nothing is skipped silently).
'use strict';
const fs = require('fs');

const path = require('path');
const declCache = new Map();

function pkgFile(spec, fromDir) {
  if (spec.startsWith('.')) return path.join(fromDir, spec + '.d.ts');
  const parts = spec.split('/');
  const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const rest = parts.slice(spec.startsWith('@') ? 2 : 1).join('/');
  return path.join(__dirname, 'node_modules', pkg, rest + '.d.ts');
}

// {props: {name: type}, imports: {Type: file}} of the interface a .d.ts
// file exports, or null for a type alias (a leaf such as IntOrString).
function decl(file) {
  if (declCache.has(file)) return declCache.get(file);
  const src = fs.readFileSync(file, 'utf8');
  const imports = {};
  for (const m of src.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g))
    if (m[2] !== '@kubernetes-models/base') for (const name of m[1].split(',').map((x) => x.trim()))
      imports[name] = pkgFile(m[2], path.dirname(file));
  const m = src.match(/export interface I\w+(?: extends [\w, ]+)? \{\n([\s\S]*?)\n\}/);
  let d = null;
  if (m) {
    const props = {};
    for (const p of m[1].matchAll(/^    "([^"]+)"\??: ([^;\n]*)/gm)) props[p[1]] = p[2].trim();
    d = { props, imports };
  }
  declCache.set(file, d);
  return d;
}

// Field names of value against the declaration in file; problems appended.
function strict(value, file, where, out) {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => strict(v, file, `${where}[${i}]`, out));
    return;
  }
  const d = decl(file);
  if (!d) return;
  for (const [k, v] of Object.entries(value)) {
    if (!(k in d.props)) {
      out.push(`${where}: unknown field "${k}"`);
      continue;
    }
    const t = d.props[k].replace(/^Array<(.*)>$/, '$1');
    if (d.imports[t]) strict(v, d.imports[t], `${where}.${k}`, out);
  }
}

function declFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return pkgFile(`kubernetes-models/${group ? group + '/' : ''}${version}/${kind}`, '.');
}

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
    const unknownFields = [];
    strict(object, declFor(object.apiVersion, object.kind), object.kind, unknownFields);
    if (unknownFields.length) throw new Error(unknownFields.join('; '));
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
