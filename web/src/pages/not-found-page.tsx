import { href } from '../app/router';
import { useSession } from '../app/session';

export function NotFoundPage({ reason }: { reason?: string }) {
  const { spaceId } = useSession();
  return (
    <section>
      <h1>{reason ? 'Not available' : 'Page not found'}</h1>
      <p>{reason ?? 'There is no page at this address.'}</p>
      <p>
        <a href={href(`/${spaceId}`)}>Go to the dashboard</a>
      </p>
    </section>
  );
}
