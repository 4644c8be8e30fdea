export interface TemplateValues {
  tag: string;
  commit: string;
  /** What the binary reports; default: the tag without its v. */
  version?: string;
}

/** Fills {tag} (v1.18.6), {version} (1.18.6, or the upstream stamp) and {commit} in recipe strings. */
export function fillTemplate(text: string, v: TemplateValues): string {
  return text.replaceAll("{version}", v.version ?? v.tag.replace(/^v/, "")).replaceAll("{tag}", v.tag).replaceAll("{commit}", v.commit);
}
