// esbuild's css loader: `import "./widget.css"` bundles the styles into static/widget.css.
declare module "*.css";
