import { loadConfig } from "../../config/load-config.ts";
import type { VerifySettings } from "../../rootfs-recipes/lib/verify-image.ts";

// Image tests use the operator's settings like the images CLI does (CELLBLOCK_IMAGES: CI keeps
// built images there between runs, keyed by recipe hash), parsed with the service's schema.

const images = loadConfig(process.env).images;

/** The images root. */
export const imagesRoot = images.CELLBLOCK_IMAGES;

/** Verification in CELLBLOCK_VERIFY_SLOT, with the sandbox as this test process configured it. */
export const verifySettings: VerifySettings = { slot: images.CELLBLOCK_VERIFY_SLOT };
