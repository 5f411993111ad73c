import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { clampK } from './url-state.ts';
import './styles.css';

// The server writes TOP_K into the page; the dev server does not, hence the fallback.
const topK = document.querySelector<HTMLMetaElement>('meta[name="image-search-top-k"]')?.content;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App defaultK={clampK(topK, 10)} />
  </StrictMode>,
);
