// web/src/charts.js: the parts of Apache ECharts the page uses (imported
// one by one, so the bundle carries only these), drawn as SVG, and the
// page's state colours.  Colours are the Okabe-Ito palette, readable with
// every common colour-vision deficiency; "down" also carries a hatch
// pattern (ECharts' decal) and every state is named in text, so no
// meaning rests on colour alone.
import * as echarts from 'echarts/core';
import { BarChart, CustomChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent, DataZoomComponent, GridComponent, LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, CustomChart, ScatterChart, AriaComponent,
  DataZoomComponent, GridComponent, LegendComponent, TooltipComponent,
  SVGRenderer]);

export const STATE_COLORS = { up: '#0072B2', down: '#D55E00', closed: '#BBBBBB' };
export const DOWN_DECAL = {
  symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: -Math.PI / 4,
  color: 'rgba(0, 0, 0, 0.45)',
};

// a chart in el, disposed of when el leaves the page
export function chartIn(el) {
  const chart = echarts.init(el, null, { renderer: 'svg' });
  const resize = () => chart.resize();
  window.addEventListener('resize', resize);
  const gone = new MutationObserver(() => {
    if (!el.isConnected) {
      window.removeEventListener('resize', resize);
      gone.disconnect();
      chart.dispose();
    }
  });
  gone.observe(document.body, { childList: true, subtree: true });
  return chart;
}

export { echarts };
