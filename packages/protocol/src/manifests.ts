import { z } from 'zod';

/** Versions are strings on the wire; YAML numbers are stringified as BOSH's director does. */
export const VersionString = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

/** `stemcell.MF` inside an IaaS stemcell tarball (reference §5). */
export const StemcellManifest = z.object({
  name: z.string().min(1),
  version: VersionString,
  operating_system: z.string().min(1).optional(),
  sha1: z.string().min(1),
  api_version: z.number().int().optional(),
  bosh_protocol: z.union([z.number(), z.string()]).optional(),
  stemcell_formats: z.array(z.string()).optional(),
  cloud_properties: z.record(z.string(), z.unknown()).default({}),
});
export type StemcellManifest = z.infer<typeof StemcellManifest>;

/**
 * `rootfs.MF` inside a generic stemcell (`rootfs.tgz`), Refit's addition.
 * The root tree archive is a plain tar inside the tgz; its digest is checked before use.
 */
export const RootfsManifest = z
  .object({
    name: z.string().min(1),
    version: VersionString,
    operating_system: z.string().min(1),
    api_version: z.number().int().min(1),
    root_archive: z
      .object({
        path: z.string().min(1),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
        size: z.number().int().nonnegative().optional(),
      })
      .strict(),
    install: z.string().min(1),
  })
  .strict();
export type RootfsManifest = z.infer<typeof RootfsManifest>;
