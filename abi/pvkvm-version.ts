// version.ts: pvkvm's own release version (the toolstack's, not the guest ABI's).
export const PVKVM_VERSION = '0.1.0';
