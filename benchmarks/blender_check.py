"""Open an avatar.glb in Blender (headless) and print what its glTF importer made of it.

    blender -b --python benchmarks/blender_check.py -- OUT/<name>/avatar.glb

Runs inside Blender's own Python (Debian 12: `apt-get install blender python3-numpy`, Blender 3.4.1), not
humanvid's environment. Prints one line: armatures, bones, meshes and their vertices, cameras, animation
actions with their frame range (seconds × the scene's frame rate), images.
"""

import sys

import numpy

if not hasattr(numpy, "bool"):
    numpy.bool = bool  # Debian 12 pairs Blender 3.4, whose glTF importer uses np.bool, with numpy 1.24

import bpy  # noqa: E402  (Blender's module, after the numpy shim)

path = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=path)
armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
meshes = [o for o in bpy.data.objects if o.type == "MESH"]
cameras = [o for o in bpy.data.objects if o.type == "CAMERA"]
actions = list(bpy.data.actions)
print(f"blender {bpy.app.version_string}: {len(armatures)} armature(s) with "
      f"{sum(len(a.data.bones) for a in armatures)} bones, {len(meshes)} mesh(es) with "
      f"{sum(len(m.data.vertices) for m in meshes)} vertices, {len(cameras)} camera(s), {len(actions)} action(s) "
      f"over frames {tuple(round(f, 1) for f in actions[0].frame_range) if actions else None} at "
      f"{bpy.context.scene.render.fps} fps, {len(bpy.data.images)} image(s)")
