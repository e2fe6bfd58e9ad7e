// backprop-lab's notebook extension for Jupyter Notebook 6 (enabled by ../../nbconfig/notebook.json).
// MathJax 2 in the classic notebook breaks long formulas automatically ("linebreaks: automatic"); inside a
// markdown table cell that splits fractions such as 1/(1+e^{-z}) over several lines and garbles them. Turn
// it off and typeset again what was already rendered. A wide table scrolls instead (CSS below).
define(["require"], function (require) {
  "use strict";
  function noAutomaticLinebreaks() {
    var MJ = window.MathJax;
    if (!MJ || !MJ.Hub) return;
    var off = { linebreaks: { automatic: false } };
    MJ.Hub.Config({ "HTML-CSS": off, SVG: off, CommonHTML: off });
    MJ.Hub.Queue(function () {
      ["HTML-CSS", "SVG", "CommonHTML"].forEach(function (name) {
        var jax = MJ.OutputJax && MJ.OutputJax[name];
        if (jax && jax.config && jax.config.linebreaks) jax.config.linebreaks.automatic = false;
      });
    });
    MJ.Hub.Queue(["Rerender", MJ.Hub]);
  }
  function load_ipython_extension() {
    var style = document.createElement("style");
    style.textContent = ".rendered_html table { display: block; max-width: 100%; overflow-x: auto; }" +
      " .rendered_html td .MathJax, .rendered_html td .MathJax_SVG { white-space: nowrap; }";
    document.head.appendChild(style);
    noAutomaticLinebreaks();
  }
  return { load_ipython_extension: load_ipython_extension };
});
