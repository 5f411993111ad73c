// Placeholder until scripts/es lands: integration tests need ES_HOST (default http://127.0.0.1:9200) to answer.
export default async function setup(): Promise<void> {
  const host = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
  process.env.ES_HOST = host;
}
