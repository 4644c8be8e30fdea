/** One piece of evidence in a verify verdict. */
export interface Check {
  name: "kmem" | "patch" | "glibc" | "checksum" | "runtime";
  ok: boolean;
  detail: string;
}
