import type { TemplateLink } from '../templates/render-job-templates.ts';
import { DeploymentInvalidLink } from './link-errors.ts';
import type { LinkGroupInput, LinkResolutionInput, ResolvedLinks } from './link-types.ts';
import { parseLinkConsumers, type ConsumerIntent } from './parse-link-consumers.ts';
import { parseLinkProviders, type ProviderIntent } from './parse-link-providers.ts';

/**
 * Resolves the links of one deployment as BOSH's LinksManager does, without a database: a
 * consumer the manifest does not name takes the one provider of its type in the deployment
 * (implicit); `consumes: {x: {from: y}}` takes the provider named `y` (its `as:`, else its spec
 * name) of that type (explicit); `consumes: {x: nil}` blanks the link; a provider with
 * `provides: {x: nil}` is not consumable. An optional consumer without a provider gets no link,
 * unless it named one with `from:`. Zero or several providers for a required link is an error
 * naming the candidates. Every error of the deployment is reported at once (BOSH's wording).
 * Cross-deployment links (`deployment:`) are refused.
 */
export function resolveLinks(input: LinkResolutionInput): ResolvedLinks {
  const { providers, errors: providerErrors } = parseLinkProviders(input.groups);
  const { consumers, errors: consumerErrors } = parseLinkConsumers(input.deployment, input.groups);
  const parseErrors = [...providerErrors, ...consumerErrors];
  if (parseErrors.length > 0) throw new DeploymentInvalidLink(parseErrors.join('\n'));

  const groups = new Map(input.groups.map((g) => [g.name, g]));
  const resolved = new Map<string, Map<string, Record<string, TemplateLink>>>();
  const errors: string[] = [];
  for (const consumer of consumers) {
    let link: TemplateLink | null;
    try {
      link = resolveConsumer(input.deployment, consumer, providers, groups);
    } catch (error) {
      if (!(error instanceof LinkResolutionError)) throw error;
      errors.push(error.message);
      continue;
    }
    if (link === null) continue;
    const jobs = resolved.get(consumer.group) ?? new Map<string, Record<string, TemplateLink>>();
    const links = jobs.get(consumer.job) ?? {};
    links[consumer.originalName] = link;
    jobs.set(consumer.job, links);
    resolved.set(consumer.group, jobs);
  }
  if (errors.length > 0) {
    throw new DeploymentInvalidLink(
      `Failed to resolve links from deployment '${input.deployment}'. See errors below:\n  - ${errors.join('\n  - ')}`,
    );
  }
  return resolved;
}

class LinkResolutionError extends Error {}

function resolveConsumer(
  deployment: string,
  consumer: ConsumerIntent,
  providers: readonly ProviderIntent[],
  groups: ReadonlyMap<string, LinkGroupInput>,
): TemplateLink | null {
  if (consumer.manual !== null) return consumer.manual;
  const found = consumer.blocked
    ? []
    : providers.filter(
        (p) => p.type === consumer.type && p.consumable && (!consumer.explicit || p.name === consumer.name),
      );
  if (found.length === 0 && consumer.optional && (!consumer.explicit || consumer.blocked)) return null;
  const [provider] = found;
  if (found.length !== 1 || provider === undefined) {
    throw new LinkResolutionError(linkError(deployment, consumer, found));
  }
  const group = groups.get(provider.group);
  const instances = [...(group?.instances ?? [])].sort((a, b) => a.index - b.index);
  const addressOf = (i: (typeof instances)[number]): string => {
    if (consumer.network === null) return i.address ?? '';
    if (!Object.hasOwn(i.addresses, consumer.network)) {
      throw new LinkResolutionError(
        `Consumer '${consumer.name}' from job '${consumer.job}' in instance group '${consumer.group}' in deployment '${deployment}' does not belong to network '${consumer.network}'`,
      );
    }
    return i.addresses[consumer.network] ?? '';
  };
  const linkInstances = instances.map((i) => ({
    name: provider.group,
    index: i.index,
    id: i.id,
    az: i.az,
    address: addressOf(i),
    bootstrap: i.bootstrap,
  }));
  // Refit publishes no DNS: a link's `address` is its bootstrap instance's address (BOSH
  // gives a `q-s0.<group>.<network>.<deployment>.bosh` query name there).
  const first = linkInstances.find((i) => i.bootstrap) ?? linkInstances[0];
  return {
    instances: linkInstances,
    properties: structuredClone(provider.properties),
    ...(first === undefined ? {} : { address: first.address }),
  };
}

/** BOSH's LinksErrorBuilder message for a consumer with no or several providers. */
function linkError(deployment: string, consumer: ConsumerIntent, found: readonly ProviderIntent[]): string {
  let header = `Failed to resolve link '${consumer.originalName}' with `;
  if (consumer.name !== consumer.originalName) header += `alias '${consumer.name}' and `;
  header += `type '${consumer.type}' from job '${consumer.job}' in instance group '${consumer.group}'.`;
  header += found.length > 1 ? ' Multiple link providers found:' : ' Details below:';
  const details =
    found.length === 0
      ? ['No link providers found']
      : found.map(
          (p) =>
            `Link provider '${p.originalName}' ${p.name === p.originalName ? '' : `with alias '${p.name}' `}from job '${p.job}' in instance group '${p.group}' in deployment '${deployment}'`,
        );
  return `${header}\n${details.map((d) => `    - ${d}`).join('\n')}`;
}
