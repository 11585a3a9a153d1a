"""Shared helpers every layer may use: error kinds and advice (`errors`), every loop and thread
(`runtime`), warnings at the caller (`warn`), words for people (`wording`), image formats (`formats`)
and the record's shape (`records`). They import nothing else of image_widget."""
