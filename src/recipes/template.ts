export interface TemplateValues {
  tag: string;
  commit: string;
}

/** Fills {tag} (v1.18.6), {version} (1.18.6) and {commit} in recipe strings. */
export function fillTemplate(text: string, v: TemplateValues): string {
  return text.replaceAll("{version}", v.tag.replace(/^v/, "")).replaceAll("{tag}", v.tag).replaceAll("{commit}", v.commit);
}
