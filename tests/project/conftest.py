"""The repository itself: every docs snippet and link, the scripts, the workflows, the locks and the layout. Default
run."""
