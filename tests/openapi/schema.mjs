// A validator for the subset of JSON Schema (OpenAPI 3.0 flavour) that docs/openapi.json uses:
// $ref (local), type (+ nullable), enum, properties, required, additionalProperties, items,
// allOf, minimum, maximum, minLength, format (informational), description/title/example.
// Objects that list `properties` and do not say `additionalProperties` are treated as closed:
// a response field the document does not describe is an error, so the document cannot fall
// behind the server unnoticed. Any other keyword is an error too (the validator would otherwise
// pass something it does not check).
const KNOWN = new Set(["$ref", "type", "nullable", "enum", "properties", "required",
  "additionalProperties", "items", "allOf", "minimum", "maximum", "minLength", "format",
  "description", "title", "example", "default"]);

export function resolve(doc, ref) {
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  let node = doc;
  for (const part of ref.slice(2).split("/")) {
    node = node?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (node === undefined) throw new Error(`dangling $ref ${ref}`);
  }
  return node;
}

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

// Property names an object schema declares, through $ref and allOf.
function declared(doc, schema, out = new Set()) {
  if (schema.$ref) return declared(doc, resolve(doc, schema.$ref), out);
  for (const k of Object.keys(schema.properties || {})) out.add(k);
  for (const sub of schema.allOf || []) declared(doc, sub, out);
  return out;
}

// Returns a list of "path: problem" strings (empty when `value` conforms). `open` skips the
// unknown-property check (used for allOf members, which only see part of the object).
export function validate(doc, schema, value, path = "$", open = false) {
  const errs = [];
  for (const k of Object.keys(schema)) {
    if (!KNOWN.has(k)) errs.push(`${path}: schema keyword "${k}" is not supported by the validator`);
  }
  if (schema.$ref) return errs.concat(validate(doc, resolve(doc, schema.$ref), value, path, open));
  for (const sub of schema.allOf || []) errs.push(...validate(doc, sub, value, path, true));
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined) errs.push(`${path}: null but not nullable`);
    return errs;
  }
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const ok = schema.type === t || (schema.type === "number" && t === "integer");
    if (!ok) { errs.push(`${path}: expected ${schema.type}, got ${t}`); return errs; }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errs.push(`${path}: ${JSON.stringify(value)} not in enum ${JSON.stringify(schema.enum)}`);
  }
  if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: ${value} < minimum ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: ${value} > maximum ${schema.maximum}`);
  if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${path}: shorter than ${schema.minLength}`);
  if (t === "array" && schema.items) {
    value.forEach((item, i) => errs.push(...validate(doc, schema.items, item, `${path}[${i}]`)));
  }
  if (t === "object") {
    const props = schema.properties || {};
    for (const r of schema.required || []) {
      if (!(r in value)) errs.push(`${path}: missing required property "${r}"`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (k in props) {
        errs.push(...validate(doc, props[k], v, `${path}.${k}`));
      } else if (typeof schema.additionalProperties === "object") {
        errs.push(...validate(doc, schema.additionalProperties, v, `${path}.${k}`));
      } else if (!open && schema.additionalProperties !== true &&
                 (schema.properties || schema.allOf) && !declared(doc, schema).has(k)) {
        errs.push(`${path}: property "${k}" is not described by the document`);
      }
    }
  }
  return errs;
}
