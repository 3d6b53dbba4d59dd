"""Labelled image trees: keypoints for every image, scoring a model on them, and finding what is wrong with them.

- :mod:`.preprocess`: the tree scanned, MoveNet over every image, keypoint CSVs (resumable, cached);
- :mod:`.workers`, :mod:`.cluster`: running that on local processes or a Dask cluster;
- :mod:`.exclude`: exclude lists; :mod:`.examples`: the example dataset;
- :mod:`.evaluate`, :mod:`.metrics`, :mod:`.pictures`: scores over every image, and their pictures;
- :mod:`.inspect`: duplicates, leaks, likely mislabelled and unusable images.
"""
