// Which builder handles which artifact type.
import type { ArtifactType } from "../../config/schema.js";
import { archiveBuilder } from "./archive.js";
import type { ArtifactBuilder } from "./builder.js";
import { npmBuilder } from "./npm.js";
import { pythonWheelBuilder } from "./python-wheel.js";

const builders: Record<ArtifactType, ArtifactBuilder> = {
  python_wheel: pythonWheelBuilder,
  npm: npmBuilder,
  archive: archiveBuilder,
};

export function builderFor(type: ArtifactType): ArtifactBuilder {
  return builders[type];
}
