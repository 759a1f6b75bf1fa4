import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, messageOf } from '../shared/api';
import { useLoad } from '../shared/hooks';
import type { Pagination, Role } from '../shared/types';
import { Alert, Loading, Pager, formatDate, useTitle } from '../shared/ui';

interface Profile {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
}

function UserRow({ u, onChanged }: { u: Profile; onChanged: (m: string) => void }) {
  const [role, setRole] = useState<Role>(u.role);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const saved = await api.put<Profile>(`/api/users/${encodeURIComponent(u.id)}/role`, { role });
      onChanged(`${saved.email} is now ${saved.role}.`);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <tr>
      <td>
        {u.email}
        {error && <p class="error">{error}</p>}
      </td>
      <td>{u.name}</td>
      <td>{formatDate(u.createdAt)}</td>
      <td>
        <form class="inline" onSubmit={onSubmit}>
          <label class="visually-hidden" for={`role-${u.id}`}>
            Role of {u.email}
          </label>
          <select id={`role-${u.id}`} value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
            <option value="customer">customer</option>
            <option value="admin">admin</option>
          </select>
          <button type="submit" disabled={role === u.role}>
            Save role<span class="visually-hidden"> of {u.email}</span>
          </button>
        </form>
      </td>
    </tr>
  );
}

export function UsersAdmin() {
  useTitle('Users · Admin');
  const { query } = useLocation();
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const list = useLoad(`${page}:${version}`, () =>
    api.get<{ users: Profile[]; pagination: Pagination }>(`/api/users?limit=50&page=${page}`),
  );
  return (
    <>
      <h1>Users</h1>
      {message && <Alert kind="info">{message}</Alert>}
      {list.error && <Alert>{list.error}</Alert>}
      {!list.value && !list.error && <Loading what="Loading users" />}
      {list.value && (
        <>
          <table>
            <caption class="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Registered</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {list.value.users.map((u) => (
                <UserRow
                  key={`${u.id}:${u.role}`}
                  u={u}
                  onChanged={(m) => {
                    setMessage(m);
                    setVersion((v) => v + 1);
                  }}
                />
              ))}
            </tbody>
          </table>
          <Pager page={page} pages={list.value.pagination.pages} href={(p) => `/admin/users?page=${p}`} />
        </>
      )}
    </>
  );
}
