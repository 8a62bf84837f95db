import { z } from "zod";
import { scalar } from "../../config/schema.js";

export const settingsSchema = z.record(z.string().min(1), scalar);
