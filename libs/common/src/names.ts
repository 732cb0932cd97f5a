/** DNS-1123 label: what Kubernetes accepts as a namespace or label value, and what Troupe uses for names. */
export const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** DNS-1035 label: like DNS-1123 but starting with a letter (Service names). */
export const DNS_1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const DNS_LABEL_MAX = 63;
