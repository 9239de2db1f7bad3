import { z } from 'zod';

/**
 * The refit CLI's own config file (`~/.refit/config`, YAML or JSON, mode 0600). Never the stock
 * CLI's `~/.bosh/config`. One entry per director; credentials are stored by `log-in`.
 */
export const CliConfigEnvironment = z
  .object({
    url: z.string().min(1),
    ca_cert: z.string().min(1).optional(),
    alias: z.string().min(1).optional(),
    client: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
  })
  .strict();
export type CliConfigEnvironment = z.infer<typeof CliConfigEnvironment>;

export const CliConfigFile = z.object({ environments: z.array(CliConfigEnvironment).default([]) }).strict();
export type CliConfigFile = z.infer<typeof CliConfigFile>;
