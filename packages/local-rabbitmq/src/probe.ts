// Is a RabbitMQ answering at a URL, and which version: an AMQP handshake, the one question start, stop and status ask.
import amqp from 'amqplib';

export interface MqSummary {
  product: string;
  version: string;
}

/** Product and version from the broker's handshake; null when nothing speaks AMQP there in time. */
export async function describeRabbitMq(url: string, timeoutMs = 3000): Promise<MqSummary | null> {
  try {
    const conn = await amqp.connect(url, { timeout: timeoutMs });
    const props = (conn.connection as unknown as { serverProperties?: Record<string, unknown> }).serverProperties ?? {};
    await conn.close();
    return { product: String(props.product ?? 'AMQP broker'), version: String(props.version ?? '?') };
  } catch {
    return null;
  }
}

export async function isRabbitMqUp(url: string): Promise<boolean> {
  return (await describeRabbitMq(url)) !== null;
}
