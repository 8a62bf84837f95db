// Small projects used by the integration tests. Hooks append to $SLIPWAY_HOME/../events.log so a test
// can see exactly what ran, in which order, how many times.

export const EVENTS = "../events.log";

const hook = (label: string, extra = "") => `#!/usr/bin/env bash
set -euo pipefail
${extra}
echo "${label} ran in $(basename "$PWD") region=\${REGION:-unset} module=\${SLIPWAY_MODULE} catalog=\${SLIPWAY_VAR_catalog}"
echo "${label}" >> "$SLIPWAY_HOME/${EVENTS}"
`;

/** core <- features <- serving, with hooks, settings, phases and env files. */
export function threeModules(): Record<string, string> {
  return {
    "slipway.yaml": `project: demo
include:
  - modules/*/module.yaml
variables:
  catalog:
    default: cat_\${target.name}
  token:
    default: s3cr3t-value
    secret: true
targets:
  dev:
    default: true
    env_files: [site.env]
  prod:
    protected: true
    variables:
      catalog: cat_prod
`,
    "application.env": "REGION=app\nLOG=1\n",
    "site.env": "REGION=site\n",
    "modules/core/module.yaml": `module: core
hooks:
  - name: setup
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  catalog: \${var.catalog}
`,
    "modules/core/deploy.sh": hook("core-deploy"),
    "modules/core/destroy.sh": hook("core-destroy"),
    "modules/features/module.yaml": `module: features
depends_on: [core]
hooks:
  - name: tables
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  table: \${var.catalog}.features
`,
    "modules/features/module.env": "REGION=module\n",
    "modules/features/deploy.sh": hook("features-deploy"),
    "modules/features/destroy.sh": hook("features-destroy"),
    "modules/serving/module.yaml": `module: serving
depends_on: [features]
phase: 1
hooks:
  - name: route
    deploy: deploy.sh
    destroy: destroy.sh
settings:
  endpoint: ep-\${target.name}
resources:
  models:
    clf: {}
  endpoints:
    ep-\${target.name}:
      phase: 2
      served:
        - { model: clf, alias: champion }
`,
    "modules/serving/deploy.sh": hook("serving-deploy", 'echo "token is $SLIPWAY_VAR_token"'),
    "modules/serving/destroy.sh": hook("serving-destroy"),
  };
}
