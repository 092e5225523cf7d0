import { AccountDeletionService } from './account-deletion.service';

describe(AccountDeletionService.name, () => {
  it('should disconnect (and so revoke) every connection before deleting the user', async () => {
    const calls: string[] = [];
    const sut = new AccountDeletionService(
      {
        disconnect: (userId, id) => {
          calls.push(`disconnect ${userId} ${id}`);
          return Promise.resolve({ userDeleted: id === 'c2' });
        },
      },
      { listForUser: () => Promise.resolve([{ id: 'c1' }, { id: 'c2' }] as never) },
      {
        delete: (userId) => {
          calls.push(`delete ${userId}`);
          return Promise.resolve(false);
        },
      },
    );
    expect(await sut.delete('u1')).toEqual({ revoked: 2 });
    expect(calls).toEqual(['disconnect u1 c1', 'disconnect u1 c2', 'delete u1']);
  });
});
