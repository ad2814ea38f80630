"""The demo: the sample workbook `partners init` makes, its data kept out of the pure core
(ARCHITECTURE.md, demo/)."""
