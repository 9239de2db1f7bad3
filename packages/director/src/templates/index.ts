export { readJobTemplates, readJobTemplatesFromBlob, type JobTemplateFiles } from './read-job-templates.ts';
export {
  renderJobTemplates,
  templateContext,
  type RenderedJob,
  type RenderJobInput,
  type TemplateInstanceSpec,
  type TemplateLink,
  type TemplateLinkInstance,
} from './render-job-templates.ts';
export {
  renderInstanceTemplates,
  renderedArchive,
  type RenderedInstance,
  type RenderInstanceInput,
} from './render-instance-templates.ts';
export { resolveJobProperties } from './resolve-job-properties.ts';
export { RENDERER_RB, type RendererOptions } from './run-renderer.ts';
export {
  InstanceGroupTemplatesRenderFailed,
  InvalidPropertyType,
  JobTemplateRenderFailed,
  TemplateRendererFailed,
  type TemplateFailure,
} from './template-errors.ts';
