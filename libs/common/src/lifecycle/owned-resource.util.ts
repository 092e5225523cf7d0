/** Something a process opened outside Nest (database pool, Redis clients, an HTTP server) that it must close. */
export interface OwnedResource {
  name: string;
  close(): Promise<void>;
}

/**
 * Closes resources in the reverse order they were opened (a later one may depend on an earlier one). A failure is
 * handed to `onError` and the rest still close: a stuck Redis client must not keep the database pool open.
 */
export async function closeOwnedResources(
  resources: readonly OwnedResource[],
  onError: (err: unknown, resource: OwnedResource) => void = () => undefined,
): Promise<void> {
  for (const resource of [...resources].reverse()) {
    try {
      await resource.close();
    } catch (err) {
      onError(err, resource);
    }
  }
}
