"""Writes an MJCF as the paper's code loads it: Brax's mjcf.load fuses every jointless body into
its parent before MuJoCo compiles the model (brax/io/mjcf.py, _fuse_bodies and _offset, ported
here with the same rules), which changes the body order, drops the fused bodies' `childclass`
and, where the parent has an explicit <inertial>, the fused child's geom mass.

Usage: python3 scripts/reference/brax_fuse.py IN.xml OUT.xml [--strip-visual]
  --strip-visual drops mesh assets, geoms of class "visual" and lights, so that MuJoCo compiles
  the model without the mesh files (they have no contacts and no mass in these models).
Used by scripts/reference/arm-reference.mts to produce the reference numbers in test/envs.
"""
import sys
import xml.etree.ElementTree as ET

import numpy as np


def quat_mul(u, v):
    return np.array([
        u[0] * v[0] - u[1] * v[1] - u[2] * v[2] - u[3] * v[3],
        u[0] * v[1] + u[1] * v[0] + u[2] * v[3] - u[3] * v[2],
        u[0] * v[2] - u[1] * v[3] + u[2] * v[0] + u[3] * v[1],
        u[0] * v[3] + u[1] * v[2] - u[2] * v[1] + u[3] * v[0],
    ])


def rotate(vec, quat):
    # brax.math.rotate_np: q v q* for a unit quaternion
    q = quat
    qv = np.array([0.0, *vec])
    qc = np.array([q[0], -q[1], -q[2], -q[3]])
    return quat_mul(quat_mul(q, qv), qc)[1:]


def transform_do(parent_pos, parent_quat, pos, quat):
    return parent_pos + rotate(pos, parent_quat), quat_mul(parent_quat, quat)


def offset(elem, parent_pos, parent_quat):
    pos = np.fromstring(elem.attrib.get("pos", "0 0 0"), sep=" ")
    quat = np.fromstring(elem.attrib.get("quat", "1 0 0 0"), sep=" ")
    fromto = elem.attrib.get("fromto")
    if fromto:
        p = np.fromstring(fromto, sep=" ")
        a, _ = transform_do(parent_pos, parent_quat, p[0:3], quat)
        b, _ = transform_do(parent_pos, parent_quat, p[3:6], quat)
        elem.attrib["fromto"] = " ".join("%f" % i for i in np.concatenate([a, b]))
        return
    pos, quat = transform_do(parent_pos, parent_quat, pos, quat)
    elem.attrib["pos"] = " ".join("%f" % i for i in pos)
    elem.attrib["quat"] = " ".join("%f" % i for i in quat)


def fuse_bodies(elem):
    for child in list(elem):
        fuse_bodies(child)
        if child.tag != "body":
            continue
        if child.find("joint") is not None or child.find("freejoint") is not None:
            continue
        cpos = np.fromstring(child.attrib.get("pos", "0 0 0"), sep=" ")
        cquat = np.fromstring(child.attrib.get("quat", "1 0 0 0"), sep=" ")
        for grandchild in child:
            if grandchild.tag in ("body", "geom", "site", "camera") and (cpos != 0).any():
                offset(grandchild, cpos, cquat)
            elem.append(grandchild)
        elem.remove(child)


def strip_visual(root):
    for parent in list(root.iter()):
        for c in list(parent):
            if c.tag in ("asset", "light") or (c.tag == "geom" and c.get("class") == "visual"):
                parent.remove(c)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    root = ET.parse(src).getroot()
    fuse_bodies(root)
    if "--strip-visual" in sys.argv[3:]:
        strip_visual(root)
    ET.ElementTree(root).write(dst)


if __name__ == "__main__":
    main()
