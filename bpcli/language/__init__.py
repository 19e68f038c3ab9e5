"""The front end: the grammar-driven parser and the builder that turns a program into a graph."""
