// Generated colour pictures for the browser tests: the tiny synthetic model matches a colour word to its colour.
import sharp from 'sharp';

export const COLOURS = {
  red: [215, 25, 35],
  blue: [25, 55, 215],
  green: [35, 170, 50],
  yellow: [240, 215, 40],
  purple: [125, 35, 160],
  white: [240, 240, 240],
} as const;
export type Colour = keyof typeof COLOURS;
/** A mostly-`colour` picture, lighter at the top; `variant` changes its bytes. */
export async function colourPicture(colour: Colour, variant: number): Promise<Buffer> {
  const [r, g, b] = COLOURS[colour];
  const w = 240;
  const h = 180;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    const shade = 1.12 - (0.24 * y) / h;
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const noise = ((x * 7919 + y * 104729 + variant * 15485863) % 17) - 8;
      px[i] = Math.max(0, Math.min(255, r * shade + noise));
      px[i + 1] = Math.max(0, Math.min(255, g * shade + noise));
      px[i + 2] = Math.max(0, Math.min(255, b * shade + noise));
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

export const colourOf = (fileName: string) => fileName.split('-')[0];
