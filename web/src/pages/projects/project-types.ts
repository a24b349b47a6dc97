import type { Answer } from '../../api/client';

export type Project = Answer<'/api/{spaceId}/projects/{id}', 'get'>;
