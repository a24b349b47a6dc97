import { href } from '../../app/router';
import { PageHeader } from '../../components/ui';

const SECTIONS: [string, string, string][] = [
  ['maintenance', 'Maintenance', 'Maintenance mode: who switched it, when; the switch.'],
  ['nodes', 'Nodes', 'Server nodes: heartbeat, running tasks, drain.'],
  ['backups', 'Backups', 'Create, verify, download; the schedule.'],
  ['database', 'Database', 'Engine, version, size, schema, privileges; move the database.'],
  ['masterkey', 'Master key', 'Show the master key after re-entering your password.'],
  ['users', 'Users and roles', 'Users, their roles, and new users.'],
  ['audit', 'Audit', 'Every change, who made it and when.'],
];

export function ConfigurationPage() {
  return (
    <section>
      <PageHeader title="Configuration" />
      <ul class="cards plain-list">
        {SECTIONS.map(([path, title, text]) => (
          <li class="card" key={path}>
            <h2>
              <a href={href(`/configuration/${path}`)}>{title}</a>
            </h2>
            <p class="muted small">{text}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
