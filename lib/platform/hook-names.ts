/**
 * The closed set of the 13 customization hooks, in the order of their numbers. The
 * configuration (customizations.timeouts) and the hook runner (lib/adapters/hooks)
 * both need it; it lives here, below both, so the configuration never imports the runner.
 */
/** The closed set of hook names, in hook-number order (1 … 13). */
export const HOOK_NAMES = [
  'need_registration',
  'process_call_params',
  'process_client_phone',
  'process_contact_creation_params',
  'process_lead_creation_params',
  'process_originate_params',
  'process_record_file_path',
  'process_task_creation_params',
  'process_autodistribution',
  'post_registration',
  'process_contact_update_params',
  'process_lead_update_params',
  'process_unsorted_creation_params',
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

const HOOK_SET: ReadonlySet<string> = new Set(HOOK_NAMES);

export function isHookName(name: string): name is HookName {
  return HOOK_SET.has(name);
}
