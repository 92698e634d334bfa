// Asks the installed Renovate itself what it would do with each extracted dependency, offline: its own
// config resolution (built-in presets), package rules, versioning and release filter — the same calls,
// in the same order, as its lookup (lib/workers/repository/process/fetch.ts and lookup/index.ts).
// Only the list of published tags is given here (argv), since a lookup would need the registries.
//
// usage: node renovate_rules.mjs RENOVATE_PACKAGE_DIR REPO_CONFIG_FILE < requests.json > answers.json
// request: {manager, packageFile, depName, datasource, currentValue, candidates: [tag...]}
// answer:  the request plus {versioning, groupName, pinDigests, automerge: {<updateType>: bool}, accepted: [tag...]}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [packageDir, configFile] = process.argv.slice(2);
const dist = (path) => import(join(packageDir, "dist", path));
const JSON5 = createRequire(join(packageDir, "package.json"))("json5");

const { getConfig } = await dist("config/defaults.js");
const { migrateAndValidate } = await dist("config/migrate-validate.js");
const { resolveConfigPresets } = await dist("config/presets/index.js");
const { mergeChildConfig } = await dist("config/utils.js");
const { applyPackageRules } = await dist("util/package-rules/index.js");
const { getDefaultVersioning } = await dist("modules/datasource/common.js");
const { get: getVersioning } = await dist("modules/versioning/index.js");
const { filterVersions } = await dist("workers/repository/process/lookup/filter.js");

const { errors, warnings, ...migrated } = await migrateAndValidate({}, JSON5.parse(readFileSync(configFile, "utf8")));
if (errors?.length || warnings?.length) throw new Error(`${configFile}: ${JSON.stringify({ errors, warnings })}`);
const { config: repoConfig } = await resolveConfigPresets(migrated);
const base = mergeChildConfig(getConfig(), repoConfig);
const requests = JSON.parse(readFileSync(0, "utf8"));
const answers = [];
for (const request of requests) {
  const { candidates, ...dep } = request;
  const managerConfig = mergeChildConfig(base, base[dep.manager] ?? {});
  let config = mergeChildConfig(mergeChildConfig(managerConfig, { packageFile: dep.packageFile, manager: dep.manager }), dep);
  config.versioning ??= getDefaultVersioning(config.datasource);
  config = await applyPackageRules(config, "pre-lookup");
  const api = getVersioning(config.versioning);
  const releases = candidates.map((version) => ({ version }));
  // lookup/index.ts: the versions the versioning knows, filtered, then only those compatible with the current value.
  const known = releases.filter((r) => api.isVersion(r.version));
  const accepted = api.isVersion(dep.currentValue)
    ? filterVersions(config, dep.currentValue, null, known, api)
        .filter((r) => api.isCompatible(r.version, dep.currentValue))
        .map((r) => r.version)
    : [];
  const automerge = {};
  for (const updateType of ["major", "minor", "patch", "digest", "pinDigest"]) {
    automerge[updateType] = Boolean((await applyPackageRules({ ...config, packageRules: base.packageRules, updateType })).automerge);
  }
  answers.push({ ...request, versioning: config.versioning, groupName: config.groupName ?? null, pinDigests: Boolean(config.pinDigests), automerge, accepted });
}
process.stdout.write(JSON.stringify(answers));
